"""The staff dashboard, one module per page area; bot.web.init_app registers them all."""
