"""KPIs, forecasting, dashboards, what-if modelling and insights."""
