"""The gate suite's plugins: fixtures fetch, ghostgates decides, the plugins report."""

pytest_plugins = [
    "plugins.run",
    "plugins.verdicts",
    "plugins.handoff",
    "plugins.reporter",
    "plugins.html",
    "plugins.trigger",
    "plugins.habits",
    "plugins.draft",
    "fixtures.state",
    "fixtures.gitea",
    "fixtures.drone",
    "fixtures.swarm",
    "fixtures.facts",
]
