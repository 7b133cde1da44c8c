"""Sales plans, targets, capacity planning and scenarios."""
