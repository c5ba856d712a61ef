"""Annual returns: the partnership's reporting years, each member's return, its sign-off
by the chief executive, and the frozen snapshot that the joint report is compiled from."""
