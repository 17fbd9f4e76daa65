"""The rule catalogue. Every module here registers its rules with ``auditor.engine.rule``;
the engine imports them all, so adding a rule is adding a function to a module in this package.
"""
