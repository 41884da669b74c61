namespace FastPath.Ike;
