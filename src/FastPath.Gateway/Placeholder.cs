namespace FastPath.Gateway;
