"""The partnership's joint aims framework for a plan period, read by every member."""
