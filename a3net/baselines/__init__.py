"""Non-deep-learning references that each chapter's networks are compared with."""
