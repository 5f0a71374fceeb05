"""What people see, rendered: chat messages and Flex templates, the pay-in slip PDF, QR images
and the public links (tracking, slip, QR) with their signed tokens. No database writes."""
