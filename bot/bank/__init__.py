"""The bank edge: Krungthai's bill-payment commands, as JSON and as Direct Link SOAP
(docs/integrators.md), and the service that applies them to the ledger."""
