"""Tests of the application database (recommender.store)."""
