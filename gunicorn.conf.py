"""gunicorn settings for surveyapp (``gunicorn -c gunicorn.conf.py wsgi:app``).

Every value can be overridden by the environment (GUNICORN_BIND, GUNICORN_WORKERS,
GUNICORN_TIMEOUT) or on the command line.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Respondent pages are short requests; heavy work is on the job queue, so a few
# sync workers per core serve them. 2 x cores + 1 is gunicorn's own advice.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# No request runs long (exports, imports and analyses are jobs): a stuck worker is killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Restart workers now and then so a slow leak cannot grow without bound. A new
# worker imports the app again (about 3 CPU seconds: pandas, scipy, the
# analysis), so the interval is long: at 5,000 requests that import cost
# 0.6 ms a request, and at the benchmark's rate every worker restarted twice a minute.
max_requests = 50_000
max_requests_jitter = 5_000

accesslog = "-"
errorlog = "-"
# The access log records the path without the query string (%(U)s, not %(r)s):
# invitation tokens travel as ?t=... and must not end up in log files.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)ss "%(a)s"'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
