"""The domain and the application of hoso: records, storage, verification rules, the web app and the CLI."""
