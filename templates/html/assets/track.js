// The only script of the tracking page: a print button for the payment acknowledgement.
const printButton = document.getElementById("print");
if (printButton) printButton.addEventListener("click", () => window.print());
