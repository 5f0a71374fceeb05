"""Follow and unfollow: greet new friends; stop pushing to those who left."""
from __future__ import annotations

from linebot.v3.webhooks import FollowEvent, UnfollowEvent

from bot.render.messages import help_text, text, with_quick_replies
from handlers.registry import ChatContext, Messages, registry


@registry.on(FollowEvent)
def on_follow(event: FollowEvent, ctx: ChatContext) -> Messages:
    if ctx.user is not None:
        ctx.user.followed = True
    t = ctx.t
    greeting = t("Welcome to TISI Pay, the payment assistant of the Thai Industrial Standards Institute (TISI).")
    return with_quick_replies([text(greeting), text(help_text(t))], t)


@registry.on(UnfollowEvent)
def on_unfollow(event: UnfollowEvent, ctx: ChatContext) -> Messages:
    if ctx.user is not None:
        ctx.user.followed = False
    return []  # no reply token: nothing can be said
