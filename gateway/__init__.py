"""Order Privacy Gateway: the one door to customer order data.

The package is split by capability (orders, disclosure, auth, ...). Each capability
keeps its HTTP routes, service logic and storage side by side; dependencies point
one way: routes -> service -> store. `audit/` is a separate library that this
package may import, never the reverse.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
