import gc

from app import create_app

app = create_app()
# What start-up built (models, mappers, routes, configuration) lives as long as the worker:
# frozen, the collector stops walking it on every full collection, which otherwise slows whichever
# request triggers it (see gc.freeze in the Python docs; bench/README.md, "Figures behind the code").
gc.freeze()
