# pytester runs an inner pytest session (the failing-test log check in test_plugin.py).
pytest_plugins = ["pytester"]
