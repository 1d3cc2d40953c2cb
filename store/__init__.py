"""Where it is kept: schema, migrations, raw artifacts; the only module that talks to the DB."""
