"""Territory tree, assignment rules, effective-dated account assignment and balancing."""
