// Hovering a cast card highlights every use of it; hovering a use highlights its card.
(function () {
  function uses(number) { return document.querySelectorAll('[data-card="' + number + '"]'); }
  function toggle(nodes, on) { for (var i = 0; i < nodes.length; i++) { nodes[i].classList.toggle("hl", on); } }
  var cards = document.querySelectorAll(".card[data-number]");
  for (var i = 0; i < cards.length; i++) {
    (function (card) {
      var number = card.getAttribute("data-number");
      card.addEventListener("mouseenter", function () { toggle(uses(number), true); });
      card.addEventListener("mouseleave", function () { toggle(uses(number), false); });
    })(cards[i]);
  }
  var refs = document.querySelectorAll("[data-card]");
  for (var j = 0; j < refs.length; j++) {
    (function (ref) {
      var card = document.getElementById("card-" + ref.getAttribute("data-card"));
      if (!card) { return; }
      ref.addEventListener("mouseenter", function () { card.classList.add("hl"); });
      ref.addEventListener("mouseleave", function () { card.classList.remove("hl"); });
    })(refs[j]);
  }
})();
