def add(a, b):
    return 


def is_even(n):
    """Return True when n is even."""
    return 
