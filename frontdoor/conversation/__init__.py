"""The conversation engine: a caller turn goes in, a decision comes out."""
