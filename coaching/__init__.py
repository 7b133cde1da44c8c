"""Skill gaps, coaching plans and goals, one-to-ones, feedback and ramp tracking."""
