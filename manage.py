#!/usr/bin/env python
from sitecare.cli import main

if __name__ == "__main__":
    main()
