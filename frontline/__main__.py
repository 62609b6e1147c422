"""`python -m frontline` is `frontline`."""

from frontline.cli import main

main()
