"""Shipped defaults and data (settings, incidents, directory, answers, training corpus, trained model): no code."""
