"""What runs after an answer was stored: the inbox of webhook events and its repliers, the outbox
that delivers pushes and upstream callbacks, the worker loop that drives both, heartbeats and
health. It uses the LINE gateway and the chat handlers; it writes money records only through
`bot.ledger`."""
