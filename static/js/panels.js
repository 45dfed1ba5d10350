// GLOBAL SETTINGS: the NAT router fields mean something only for network type NAT.
document.addEventListener("DOMContentLoaded", () => {
  const natFields = document.getElementById("nat-fields");
  const radios = document.querySelectorAll('input[name="network"]');
  if (!natFields || radios.length === 0) return;
  const update = () => {
    const checked = document.querySelector('input[name="network"]:checked');
    natFields.hidden = !checked || checked.value !== "nat";
  };
  radios.forEach((radio) => radio.addEventListener("change", update));
  update();
});
