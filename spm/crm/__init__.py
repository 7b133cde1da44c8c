"""Accounts, deals with stage history, leads and activities; their import and REST API."""
