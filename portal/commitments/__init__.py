"""Each organisation's own commitments: the "We will …" statements of its policy,
linked to the partnership's joint aims."""
