"""Template tags of the lbconfig app."""
