"""Each organisation's own plan: its policy commitments, objectives and actions."""
