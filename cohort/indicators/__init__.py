"""Read side: indicators, cohorts and disclosure control, computed by the database."""
