"""Who is calling and what they may do: principals and the one authorization policy."""
