"""Health checks after a switch, and on demand: is the site whole as a visitor fetches it?

`page.py` decides what to fetch and what passes (pure); `fetch.py` fetches over HTTP;
`command.py` runs a user's check command; `check.py` runs the checks with their retries and
deadline on a clock.
"""
