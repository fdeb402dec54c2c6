"""The annual execution report (domain.md §8): one model, four formats."""
