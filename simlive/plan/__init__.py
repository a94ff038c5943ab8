"""Capacity planning: analytic first guesses (Erlang C / Erlang A) and simulation search."""
