"""SLA accounting: calendars, availability over intervals (budgets and credits to come)."""
