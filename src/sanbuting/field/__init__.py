"""Field work orders: the cut-offs, reconnections and meter closings a crew carries out, with
their address, arrears, deadline, crew and the field's feedback (`orders`: made when the
dispatcher sends an order; `service`: the staff's worklists, assignment and reports;
docs/store.md, "Field work orders")."""
