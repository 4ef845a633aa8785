"""Shared pytest set-up: the plugins that start the system services the tests need."""

pytest_plugins = [
    "tests.support.postgres",
    "tests.support.smtp",
    "tests.support.browser",
    "tests.support.broker",
    "tests.support.pcscd",
    "tests.support.ausweisapp",
]
