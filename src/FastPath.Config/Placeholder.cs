namespace FastPath.Config;
