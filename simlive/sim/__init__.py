"""The broadcast model: audience, orders and stock, after-sales desks, records. It
produces measure records (:mod:`simlive.judge.measures`); :mod:`simlive.judge` judges them."""
