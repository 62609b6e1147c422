"""`python -m api` is `frontline`."""

from api.cli import main

main()
