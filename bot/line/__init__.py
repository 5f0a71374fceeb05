"""The LINE edge going out: the Messaging API gateway (replies, pushes, loading animation) over
line-bot-sdk, and the rich menu (its image and its deployment)."""
