"""The bootstrap project's code: config model, policy documents, resources."""
