"""Helpers the tests share: throwaway databases, and `frontline serve` as a real process."""
