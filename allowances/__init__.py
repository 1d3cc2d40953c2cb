"""Who is paid: registry import, targeting, proposed lists, approvals, payment files, audit."""
