"""For development only: `tisi-pay demo`, its LINE simulator and the fake LINE Messaging API that
tests and benchmarks talk to. Production code never imports from here."""
