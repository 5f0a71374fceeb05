"""Production entry point: `gunicorn 'app:app'`. Settings come from the environment."""
from bot.factory import create_app

app = create_app()
