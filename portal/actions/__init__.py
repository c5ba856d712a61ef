"""Each organisation's own action plan: objectives, actions and their progress."""
