"""People, the team tree with effective-dated membership, and the fiscal calendar."""
