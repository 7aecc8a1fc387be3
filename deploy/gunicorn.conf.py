# gunicorn -c deploy/gunicorn.conf.py config.wsgi  (run from the project root)
import multiprocessing

bind = "127.0.0.1:8000"
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "gthread"
threads = 4
timeout = 60
accesslog = "-"
errorlog = "-"
pythonpath = "site,."
