"""The "Community safety" Processing provider and its algorithms, one module each."""
