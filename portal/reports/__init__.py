"""The joint annual report: compile from signed-off returns, publish versions, deliver."""
